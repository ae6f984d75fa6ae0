import { runOnAzurePipelines } from '../../src/platform/azure-pipelines';
import { helmRelease } from '../../src/helm-release';
void runOnAzurePipelines(helmRelease);
