import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { TokenService } from './token.service';
import { TokensController } from './tokens.controller';

@Module({ imports: [AuditModule], controllers: [TokensController], providers: [TokenService] })
export class TokensModule {}
