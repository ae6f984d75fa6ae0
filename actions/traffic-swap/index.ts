import { runOnGitHub } from '../../src/platform/github';
import { trafficSwap } from '../../src/traffic';
void runOnGitHub(trafficSwap);
