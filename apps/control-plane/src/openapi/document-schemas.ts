// Request schemas that cannot be attached to a route parameter, so they are documented as named
// components built when the document is: the spec (validated by the spec compiler, not a pipe)
// and bodies whose limits come from the configuration (SLUICE_MAX_INSTANCES), which handlers
// validate with the same factory and the same configured value.
import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiOperation, type ReferenceObject, type SchemaObject } from '@nestjs/swagger';
import { querySpecSchema } from '@sluice/query-plan';
import { z, type ZodType } from 'zod';
import type { AppConfig } from '../config/app-config';
import { scaleBody } from '../queries/query.dto';
import { SPEC_MEDIA_TYPES } from '../queries/spec-upload';
import { scalingBody } from '../scaling/scaling.dto';

const DOCUMENT_SCHEMAS = {
  QuerySpec: () => querySpecSchema,
  ScaleRequest: (c: AppConfig) => scaleBody(c.SLUICE_MAX_INSTANCES),
  ScalingRequest: (c: AppConfig) => scalingBody(c.SLUICE_MAX_INSTANCES),
} satisfies Record<string, (config: AppConfig) => ZodType>;

export type DocumentSchemaName = keyof typeof DOCUMENT_SCHEMAS;

export const schemaRef = (name: DocumentSchemaName): ReferenceObject => ({
  $ref: `#/components/schemas/${name}`,
});

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

/** A JSON body validated against one of the configured components. */
export function ApiConfiguredBody(name: Exclude<DocumentSchemaName, 'QuerySpec'>) {
  return ApiBody({ schema: schemaRef(name) });
}

/** A spec that compiles, shown in the document (and sent by schemathesis' examples phase). */
const EXAMPLE_SPEC = {
  name: 'big-clicks',
  sources: {
    clicks: {
      kafka: { topic: 'clicks', startingOffsets: 'earliest' },
      format: 'json',
      schema: { user_id: 'string', amount: 'long' },
    },
  },
  sql: 'SELECT user_id, amount FROM clicks WHERE amount > 10',
  sink: { kafka: { topic: 'big-clicks' } },
  outputMode: 'append',
  trigger: { processingTime: '1 second' },
};
const EXAMPLE_SPEC_YAML = [
  'name: big-clicks',
  'sources:',
  '  clicks:',
  '    kafka: { topic: clicks, startingOffsets: earliest }',
  '    format: json',
  '    schema: { user_id: string, amount: long }',
  'sql: SELECT user_id, amount FROM clicks WHERE amount > 10',
  'sink:',
  '  kafka: { topic: big-clicks }',
  'outputMode: append',
  'trigger: { processingTime: 1 second }',
  '',
].join('\n');

/** The spec body of POST /queries and POST /queries/{id}/versions: YAML or plain text, or JSON. */
export function ApiSpecBody() {
  const text = {
    schema: {
      type: 'string',
      description: 'The query spec as YAML (JSON is YAML too)',
    } satisfies SchemaObject,
    example: EXAMPLE_SPEC_YAML,
  };
  return applyDecorators(
    // `summary: undefined` keeps a summary set by another @ApiOperation on the same handler.
    ApiOperation({
      summary: undefined,
      requestBody: {
        required: true,
        description: 'Query spec (ARCHITECTURE.md "Query spec"); at most 1 MB',
        // The media types the spec upload parser accepts (anything else is 415).
        content: Object.fromEntries(
          SPEC_MEDIA_TYPES.map((type) => [
            type,
            type === 'application/json' ? { schema: schemaRef('QuerySpec'), example: EXAMPLE_SPEC } : text,
          ]),
        ),
      },
    }),
  );
}
