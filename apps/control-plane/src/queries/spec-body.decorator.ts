// The spec body of POST /queries and POST /queries/{id}/versions in the OpenAPI document: YAML or
// plain text, or JSON, in exactly the media types the spec upload parser accepts.
import { applyDecorators } from '@nestjs/common';
import { ApiOperation, type SchemaObject } from '@nestjs/swagger';
import { schemaRef } from '../openapi/document-schemas';
import { SPEC_MEDIA_TYPES } from './spec-upload';

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
