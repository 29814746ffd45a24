import type { Choice } from '../core/types';
import { ask, type FlowContext, type Turn } from './context';
import { askLanguage } from './onboarding';
import { privacyMenu } from './privacy';
import { showChildren } from './profile';

const ITEMS = ['children', 'nido', 'housing', 'ask', 'help', 'language', 'privacy'] as const;

export function mainMenu(ctx: FlowContext, lead?: string): Turn {
  const choices: Choice[] = ITEMS.map((item) => ({ id: `menu:${item}`, label: ctx.t(`menu.${item}`) }));
  const turn = ask(ctx.t('menu.title'), choices, { step: 'menu' });
  if (lead) turn.replies[0]!.text = `${lead}\n${turn.replies[0]!.text}`;
  return turn;
}

/** A main-menu item (nido and housing: see calls.ts; help and ask: see needs.ts). */
export function menuItem(ctx: FlowContext): Turn | undefined {
  switch (ctx.choice) {
    case 'menu': return mainMenu(ctx);
    case 'menu:children': return showChildren(ctx);
    case 'menu:language': return askLanguage(ctx, { then: 'menu' });
    case 'menu:privacy': return privacyMenu(ctx);
    default: return undefined;
  }
}
