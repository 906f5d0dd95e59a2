// Next's ambient types (CSS imports, next/image). Next regenerates next-env.d.ts at build time
// (gitignored); this file gives a fresh clone the same types before any build.
/// <reference types="next" />
/// <reference types="next/image-types/global" />
