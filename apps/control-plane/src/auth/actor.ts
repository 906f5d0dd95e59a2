/**
 * Who acted, as the audit log records it. `id` is stable and unique (`token/<uuid>` for API calls,
 * `os/<user>` for the offline CLI); `name` is what people read (token names are not unique).
 */
export interface Actor {
  id: string;
  name: string;
}
