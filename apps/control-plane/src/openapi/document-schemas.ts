// Request schemas that cannot be attached to a route parameter are documented as named components:
// the spec (validated by the spec compiler, not a pipe) and bodies whose limits come from the
// configuration (SLUICE_MAX_INSTANCES), which handlers validate with the same factory and value.
// Routes refer to them by name here; the composition root (openapi-components.ts) builds them, so
// this folder never imports the features it documents.
import { ApiBody, type ReferenceObject } from '@nestjs/swagger';

export type DocumentSchemaName = 'QuerySpec' | 'ScaleRequest' | 'ScalingRequest';

export const schemaRef = (name: DocumentSchemaName): ReferenceObject => ({
  $ref: `#/components/schemas/${name}`,
});

/** A JSON body validated against one of the configured components. */
export function ApiConfiguredBody(name: Exclude<DocumentSchemaName, 'QuerySpec'>) {
  return ApiBody({ schema: schemaRef(name) });
}
