/**
 * `@murmur/examples`: the demo, the examples and the `murmur` command. What is exported here is
 * what the tests (and curious readers) reuse; run the programs through their scripts.
 */
export { Children, exitWithParent, until, sleep, type Child } from './internal/children.js'
export * as wordcount from './demo/wordcount.js'
