import { runOnAzurePipelines } from '../../src/platform/azure-pipelines';
import { toolSetup } from '../../src/tool-setup';
void runOnAzurePipelines(toolSetup);
