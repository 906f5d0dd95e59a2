// Builds the Nest application from a validated config; used by main.ts and by the tests.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import type { AppConfig } from './config/app-config';
import { setupOpenApi } from './openapi/openapi-document';

export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  // Specs are small; anything bigger is a mistake or an attack and gets 413.
  app.useBodyParser('json', { limit: '1mb' });
  app.useBodyParser('text', { limit: '1mb', type: ['text/plain', 'application/yaml', 'application/x-yaml', 'text/yaml'] });
  setupOpenApi(app, config);
  return app;
}
