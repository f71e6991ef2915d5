/**
 * A yes/no question on the terminal (stderr), for `exec`: booting a new kernel ends every running process
 * without a clean shutdown, so a person at a terminal is asked first.
 */
import {createInterface} from 'node:readline/promises';

export function interactive(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true;
}

export async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({input: process.stdin, output: process.stderr});
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
