// Serves the OpenAPI document at /api/docs/openapi.json (Swagger UI at /api/docs). Request bodies
// and query parameters come from the zod schemas the API validates with (@Body/@Query `schema`
// options, see validation/zod-param.ts, plus the named components the caller builds:
// openapi-components.ts); responses
// from the zod response schemas in the *.dto.ts files; errors share the ApiError schema.
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject, type SchemaObject } from '@nestjs/swagger';
import { BUILD_INFO } from '../build-info';

export const OPENAPI_JSON_PATH = 'api/docs/openapi.json';

export function buildOpenApiDocument(
  app: NestExpressApplication,
  components: Record<string, SchemaObject>,
): OpenAPIObject {
  const info = new DocumentBuilder()
    .setTitle('Sluice control plane')
    .setDescription(
      'Deploy, supervise, scale and upgrade streaming queries. Every error has the body ApiError ' +
        '({statusCode, code, message, errors?}); a known path with an unsupported method answers 405 with an Allow header.',
    )
    .setVersion(BUILD_INFO.version)
    .addBearerAuth()
    .build();
  const document = SwaggerModule.createDocument(app, info);
  document.components = {
    ...document.components,
    schemas: { ...document.components?.schemas, ...components },
  };
  return document;
}

export function setupOpenApi(app: NestExpressApplication, components: Record<string, SchemaObject>): void {
  SwaggerModule.setup('api/docs', app, () => buildOpenApiDocument(app, components), {
    jsonDocumentUrl: OPENAPI_JSON_PATH,
  });
}
