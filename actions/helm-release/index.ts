import { runOnGitHub } from '../../src/platform/github';
import { helmRelease } from '../../src/helm-release';
void runOnGitHub(helmRelease);
