import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from './auth.guard';
import { TokenRepository } from './token.repository';
import { TokenVerifier } from './token-verifier.service';

/** Every request's token is checked here (a global guard); managing tokens is TokensModule. */
@Global()
@Module({
  providers: [TokenRepository, TokenVerifier, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [TokenRepository, TokenVerifier],
})
export class AuthModule {}
