import type { MCPServerSpec } from './mcpserver.generated.js';

/**
 * A view of an object in which every field has the type the schema gives it, or is absent:
 * rules can trust the shape of what they read, and need not guard against `headers: 42`
 * (the schema rule already reports that). Values may still break patterns and enums.
 */
export type Loose<T> = T extends readonly (infer Item)[]
  ? readonly Loose<Item>[]
  : T extends object
    ? { readonly [K in keyof T]?: Loose<T[K]> }
    : T;

export type SpecView = Loose<MCPServerSpec>;
