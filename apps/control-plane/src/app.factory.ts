// Builds the Nest application from a validated config; used by main.ts and by the tests.
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { BUILD_INFO } from './build-info';
import type { AppConfig } from './config/app-config';

export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  // Specs are small; anything bigger is a mistake or an attack and gets 413.
  app.useBodyParser('json', { limit: '1mb' });
  app.useBodyParser('text', { limit: '1mb', type: ['text/plain', 'application/yaml', 'application/x-yaml', 'text/yaml'] });
  const doc = new DocumentBuilder()
    .setTitle('Sluice control plane')
    .setDescription('Deploy, supervise, scale and upgrade streaming queries')
    .setVersion(BUILD_INFO.version)
    .addBearerAuth()
    .build();
  SwaggerModule.setup('api/docs', app, () => SwaggerModule.createDocument(app, doc), {
    jsonDocumentUrl: 'api/docs/openapi.json',
  });
  return app;
}
