// The named request components of the OpenAPI document (openapi/document-schemas.ts names them),
// built from the same zod factories and configured limits the handlers validate with.
import type { SchemaObject } from '@nestjs/swagger';
import { querySpecSchema } from '@sluice/query-plan';
import { z, type ZodType } from 'zod';
import type { AppConfig } from './config/app-config';
import type { DocumentSchemaName } from './openapi/document-schemas';
import { scaleBody } from './queries/query.dto';
import { scalingBody } from './scaling/scaling.dto';

const DOCUMENT_SCHEMAS = {
  QuerySpec: () => querySpecSchema,
  ScaleRequest: (c: AppConfig) => scaleBody(c.SLUICE_MAX_INSTANCES),
  ScalingRequest: (c: AppConfig) => scalingBody(c.SLUICE_MAX_INSTANCES),
} satisfies Record<DocumentSchemaName, (config: AppConfig) => ZodType>;

/** The components above as OpenAPI 3.0 schemas of what a client sends (zod's input side). */
export function documentSchemas(config: AppConfig): Record<string, SchemaObject> {
  return Object.fromEntries(
    Object.entries(DOCUMENT_SCHEMAS).map(([name, build]) => {
      // Durations and column types are checked by code, not by shape: `unrepresentable: 'any'`
      // documents them as "any value" instead of failing.
      const { $schema: _, ...schema } = z.toJSONSchema(build(config), {
        target: 'openapi-3.0',
        io: 'input',
        unrepresentable: 'any',
      });
      return [name, schema as SchemaObject];
    }),
  );
}
