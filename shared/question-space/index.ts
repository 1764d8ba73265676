export * from './vocabulary.js';
export * from './templates.js';
export * from './parse-question.js';
export * from './tokenize.js';
