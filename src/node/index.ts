// 'weightlens/node': everything in 'weightlens' plus reading models and external data from disk.
export * from '../index.js';
export { openModelFile, type OpenFileOptions } from './open-file.js';
export { directorySource } from './external-data.js';
export { writeModel, type WriteModelOptions } from './write-model.js';
export { fileSpill, type FileSpill } from './file-spill.js';
export { verifyQuantized, type VerifyOptions, type VerifyReport } from './verify-quantized.js';
