// Every scenario `npm run bench -- <name>` knows; add new ones here.
import type { AnyScenario } from '../scenario.js';
import { rawProduce } from './raw-produce.js';

export const scenarios: AnyScenario[] = [rawProduce];
