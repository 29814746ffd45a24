import { describe, expect, it } from 'vitest';
import { runScript } from '../../support/processes';

describe('npm run safety: what the matcher hears, for a reviewer', () => {
  it('shows the level, the concepts, the language and the words each group took', async () => {
    const run = runScript('functions/cli/safety.ts', ['it', 'mio marito mi picchia, ho paura'], {});
    const out = await run.done;
    expect(out.code, out.stderr).toBe(0);
    const shown = JSON.parse(out.stdout) as { heard: { level: string; concepts: string[]; language: string }; lexicons: { language: string; signals: string[] }[] };
    expect(shown.heard).toMatchObject({ level: 'certain', language: 'it' });
    expect(shown.heard.concepts).toContain('violence');
    expect(shown.lexicons.find((l) => l.language === 'it')!.signals.length).toBeGreaterThan(0);
  });

  it('answers a wrong call with its usage and exit code 2', async () => {
    const out = await runScript('functions/cli/safety.ts', ['xx'], {}).done;
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/^usage: npm run safety/);
  });
});
