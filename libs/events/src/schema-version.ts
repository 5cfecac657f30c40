// In a module of its own: both the schemas' side (codec.ts) and the byte layer (encode-into.ts) write it.

/** Schema version of every event type this build writes (and the newest it reads). */
export const SCHEMA_VERSION = 1;
