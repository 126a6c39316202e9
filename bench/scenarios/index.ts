// Every scenario `npm run bench -- <name>` knows; add new ones here.
import type { AnyScenario } from '../scenario.js';
import { appendContended } from './append-contended.js';
import { appendUncontended } from './append-uncontended.js';
import { codec } from './codec.js';
import { compare } from './compare.js';
import { footprint } from './footprint.js';
import { growth } from './growth.js';
import { hotStream } from './hot-stream.js';
import { loadAggregate } from './load-aggregate.js';
import { observabilityCost } from './observability-cost.js';
import { projectionScenario } from './projection.js';
import { rawProduce } from './raw-produce.js';
import { readStream } from './read-stream.js';
import { scaleOut } from './scale-out.js';
import { takeover } from './takeover.js';

export const scenarios: AnyScenario[] = [rawProduce, appendUncontended, appendContended, readStream, loadAggregate, hotStream, codec, growth, scaleOut, compare, projectionScenario, footprint, takeover, observabilityCost];
