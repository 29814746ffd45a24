/** Both menus and the staff commands, drawn from the features' descriptors; the router adds its own items. */
import type { TFunction } from 'i18next';
import type { Choice } from '../core/types';
import { ask, type FlowContext, type Menus, type StaffProfile, type Turn } from '../core/context';
import type { Feature, MenuItem, StaffCommand } from '../core/feature';
import { staffDone } from '../core/staff-ui';

export type StaffRole = StaffProfile['role'];

/** The router's own main-menu item: the language works in every state, so it is routed here. */
const LANGUAGE_ITEM: MenuItem = { id: 'menu:language', label: 'menu.language', order: 60 };

const byOrder = <T extends { order: number }>(items: T[]) => [...items].sort((a, b) => a.order - b.order);

export interface Composed {
  menus: Menus;
  /** every staff command, in the order /help lists them */
  commands: readonly StaffCommand[];
  /** the command a typed word names (its name or an alias; Telegram's "/queue@bot" too), if any */
  command(word: string | undefined): StaffCommand | undefined;
  commandsFor(role: StaffRole): StaffCommand[];
}

export function compose(features: readonly Feature[]): Composed {
  const mainItems = byOrder([...features.flatMap((f) => f.menu ?? []), LANGUAGE_ITEM]);
  const staffItems = byOrder(features.flatMap((f) => f.staffMenu ?? []));

  const main = (ctx: FlowContext, lead?: string): Turn => {
    const choices: Choice[] = mainItems.map((item) => ({ id: item.id, label: ctx.t(item.label) }));
    const turn = ask(ctx.t('menu.title'), choices, { step: 'menu' });
    if (lead) turn.replies[0]!.text = `${lead}\n${turn.replies[0]!.text}`;
    return turn;
  };
  const staff = (ctx: FlowContext, who: Pick<StaffProfile, 'role'>, lead?: string): Turn => {
    const choices: Choice[] = staffItems
      .filter((item) => !item.coordinatorOnly || who.role === 'coordinator')
      .map((item) => ({ id: item.id, label: ctx.t(item.label) }));
    const turn = ask(ctx.t('staff.menuTitle'), choices, { step: 'staff' });
    if (lead) turn.replies.unshift({ text: lead });
    return turn;
  };

  /** /help: every command the role may use, with its aliases and what it does, in the reader's language */
  const help = (t: TFunction, role: StaffRole) => {
    const line = (c: StaffCommand) => t('staff.helpLine', {
      command: [`/${c.name}`, c.args].filter(Boolean).join(' '),
      aliases: c.aliases.map((a) => `/${a}`).join(', '),
      what: t(`commands.${c.name}`),
    });
    return [t('staff.helpHead'), ...commandsFor(role).map(line), t('staff.helpTail')].join('\n');
  };
  const own: StaffCommand[] = [
    { name: 'menu', aliases: ['start'], order: 0, run: (ctx, who) => staff(ctx, who) },
    { name: 'help', aliases: ['aiuto'], order: 10, run: (ctx, who) => staffDone(ctx, help(ctx.t, who.role)) },
  ];
  const commandsFor = (role: StaffRole) => commands.filter((c) => !c.coordinatorOnly || role === 'coordinator');
  const commands = byOrder([...own, ...features.flatMap((f) => f.commands ?? [])]);
  const words = new Map<string, StaffCommand>();
  for (const c of commands) {
    for (const w of [c.name, ...c.aliases]) {
      if (words.has(w)) throw new Error(`staff command word /${w} is claimed twice`);
      words.set(w, c);
    }
  }
  return {
    menus: { main, staff },
    commands,
    command: (word) => (word ? words.get(word.toLowerCase().replace(/@\w+$/, '')) : undefined),
    commandsFor,
  };
}
