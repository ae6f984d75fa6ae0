import { runOnGitHub } from '../../src/platform/github';
import { toolSetup } from '../../src/tool-setup';
void runOnGitHub(toolSetup);
