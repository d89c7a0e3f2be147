// The Node half of the consumer app: a model file's statistics through `weightlens/node`.
import { computeStats, type LayerReport } from 'weightlens';
import { openModelFile } from 'weightlens/node';

const model = await openModelFile(process.argv[2]!);
const layers: LayerReport[] = (await computeStats(model)).layers;
console.log(`${layers.length} layers`);
