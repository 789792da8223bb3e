// Staff console (/staff/): sign-in and "who am I". Readers are refused here.
import './staff.css';
import { branchLabel, ROLE_LABELS } from './api.js';
import { $, h, setText, show } from './dom.js';
import { staffSession } from './staff-session.js';

const els = {
  mePanel: $('me-panel'),
  meName: $('me-name'),
  meLogin: $('me-login'),
  meRoles: $('me-roles'),
  meBranch: $('me-branch'),
};

function showMe(p) {
  setText(els.meName, p.name || '—');
  setText(els.meLogin, p.login || '—');

  els.meRoles.replaceChildren();
  const roles = Array.isArray(p.roles) ? p.roles : [];
  if (roles.length === 0) {
    els.meRoles.append(h('span', { class: 'st-muted' }, '无 (none)'));
  }
  for (const role of roles) {
    const zh = ROLE_LABELS[role];
    els.meRoles.append(
      h('span', { class: 'st-chip' }, zh ? zh + ' ' : null, h('code', null, role)),
    );
  }

  setText(els.meBranch, branchLabel(p.branch) || '未指定 (none)');
  show(els.mePanel);
}

staffSession({ panels: [els.mePanel], onStaff: showMe }).start();
