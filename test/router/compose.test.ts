import { describe, expect, it } from 'vitest';
import type { Feature } from '../../bot/core/feature';
import type { FlowContext } from '../../bot/core/context';
import { FEATURES } from '../../bot/features';
import { compose } from '../../bot/router/menus';
import { createRouter, owns } from '../../bot/router';

/** A t() that shows the key, so a label is seen to come from the descriptor. */
const t = ((key: string) => key) as unknown as FlowContext['t'];
const ctx = { t } as FlowContext;

describe('the router, composed from the features', () => {
  it.each([
    [['need.', 'ask'], 'need.describe', true],
    [['need.', 'ask'], 'ask', true],
    [['need.', 'ask'], 'asked', false],
    [['call:'], 'call:show:nido-2027', true],
    [['call:evicted'], 'call:evictedX', false],
    [['children'], 'children.x', false],
    [['menu:nido'], undefined, false],
  ] as const)('reads %j as claiming %s: %s', (claims, value, expected) => {
    expect(owns(claims, value)).toBe(expected);
  });

  it('draws her main menu from the features, in their order, with the language item of its own', () => {
    const menu = compose(FEATURES).menus.main(ctx);
    expect(menu.replies[0]!.choices!.map((c) => c.id)).toEqual(['menu:children', 'menu:nido', 'menu:housing', 'menu:ask', 'menu:help', 'menu:language', 'menu:privacy']);
    expect(menu.replies[0]!.choices!.map((c) => c.label)).toContain('menu.nido');
    expect(menu.conversation.step).toBe('menu');
  });

  it.each([
    ['tutor', ['staff:code', 'staff:needs', 'staff:families']],
    ['coordinator', ['staff:code', 'staff:needs', 'staff:families', 'staff:queue', 'staff:tutors', 'staff:broadcast', 'staff:broadcasts', 'staff:report', 'staff:desk']],
  ] as const)('draws the staff menu a %s may use', (role, ids) => {
    const menu = compose(FEATURES).menus.staff(ctx, { role });
    expect(menu.replies.at(-1)!.choices!.map((c) => c.id)).toEqual(ids);
  });

  it('lists every command once, menu and help first, each word owned by one command', () => {
    const { commands, command } = compose(FEATURES);
    expect(commands.slice(0, 2).map((c) => c.name)).toEqual(['menu', 'help']);
    expect(new Set(commands.map((c) => c.name)).size).toBe(commands.length);
    expect(command('/x')).toBeUndefined();
    expect(command('Assegna')?.name).toBe('assign');
    expect(command('queue@family_bot')?.name).toBe('queue');
  });

  it('refuses two features claiming the same command word', () => {
    const one: Feature = { name: 'one', commands: [{ name: 'take', aliases: [], order: 1, run: () => { throw new Error('not run'); } }] };
    expect(() => compose([...FEATURES, one])).toThrow(/\/take is claimed twice/);
  });

  it('refuses a list where the first-contact hook is missing or doubled', () => {
    expect(() => createRouter(FEATURES.filter((f) => !f.beforeConsent))).toThrow(/beforeConsent/);
    const twice = FEATURES.find((f) => f.beforeConsent)!;
    expect(() => createRouter([...FEATURES, { ...twice, name: 'again' }])).toThrow(/beforeConsent/);
  });

  it('gives each feature a name of its own', () => {
    expect(new Set(FEATURES.map((f) => f.name)).size).toBe(FEATURES.length);
  });
});
