/** A failure that retrying cannot fix; the operation ends FAILED at once. */
export class OperationFailed extends Error {}
