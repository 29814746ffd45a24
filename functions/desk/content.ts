/** The desk's content pages beside calls and the knowledge base: WhatsApp templates, services, the care calendar. */
import { calendarPages } from './calendar';
import type { DeskPage } from './page';
import { servicePages } from './services';
import { templatePages } from './templates';

export const contentPages: DeskPage[] = [...templatePages, ...servicePages, ...calendarPages];
