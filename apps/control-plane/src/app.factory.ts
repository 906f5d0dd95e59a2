// Builds the Nest application from a validated config; used by main.ts and by the tests.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import type { AppConfig } from './config/app-config';
import { documentSchemas } from './openapi-components';
import { setupOpenApi } from './openapi/openapi-document';
import { isSpecUpload } from './queries/spec-upload';
import { refuseDeepJson } from './validation/json-depth';

export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  // Specs are small; anything bigger is a mistake or an attack and gets 413. Spec uploads, JSON
  // included, are read as text first (spec-upload.ts): the compiler's limits apply before any parse.
  app.useBodyParser('text', { limit: '1mb', type: isSpecUpload });
  // A variable, not a literal: Nest's option type leaves out `verify` (it sets its own when
  // rawBody is on, which it is not here) but passes it through to body-parser.
  const jsonOptions = { limit: '1mb', verify: refuseDeepJson };
  app.useBodyParser('json', jsonOptions);
  setupOpenApi(app, documentSchemas(config));
  return app;
}
