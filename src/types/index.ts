/**
 * The bottom layer: interface types shared by src/shared and src/platform (and everything above). Types only — no
 * runtime code, no imports from any other src/ directory (tests/contract/layers.test.ts).
 */
export type * from './platform';
export type * from './inputs';
