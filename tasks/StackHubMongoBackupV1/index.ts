import { runOnAzurePipelines } from '../../src/platform/azure-pipelines';
import { mongoBackup } from '../../src/mongo';
void runOnAzurePipelines(mongoBackup);
