// Documents the `{id}` path parameter. Ids are validated by ParseUUIDPipe (any 8-4-4-4-12 hex
// UUID); anything else is answered 404, as an unknown id is.
import { ApiParam } from '@nestjs/swagger';

export function ApiIdParam(what: string) {
  return ApiParam({
    name: 'id',
    description: `Id of the ${what} (UUID)`,
    schema: { type: 'string', format: 'uuid' },
  });
}
