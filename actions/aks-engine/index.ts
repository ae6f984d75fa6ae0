import { runOnGitHub } from '../../src/platform/github';
import { aksEngine } from '../../src/aks-engine';
void runOnGitHub(aksEngine);
