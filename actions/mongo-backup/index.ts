import { runOnGitHub } from '../../src/platform/github';
import { mongoBackup } from '../../src/mongo';
void runOnGitHub(mongoBackup);
