import { runOnAzurePipelines } from '../../src/platform/azure-pipelines';
import { aksEngine } from '../../src/aks-engine';
void runOnAzurePipelines(aksEngine);
