import { runOnAzurePipelines } from '../../src/platform/azure-pipelines';
import { trafficSwap } from '../../src/traffic';
void runOnAzurePipelines(trafficSwap);
