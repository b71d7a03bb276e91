// Translates the demo page from the browser's languages, as the widget
// (which translates itself) does.

import { initLanguage, applyTranslations, t } from './i18n.js';

initLanguage({ useStored: false });
applyTranslations();
const inbox = document.getElementById('demo-inbox');
if (inbox) inbox.textContent = t('demo.inbox', { id: inbox.dataset.inbox || '' });
