// Small DOM helpers. Text always goes in as text nodes; there is no way to
// pass markup through these functions.

// h creates an element. attrs: class (string or array), dataset (object),
// on (event listeners), text (textContent), hidden (boolean), and any other
// attribute (set with setAttribute; null/false skips it, true sets "").
// Children may be nodes, strings (become text nodes), arrays, null or false.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (name === 'class') {
        el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
      } else if (name === 'dataset') {
        for (const [k, v] of Object.entries(value)) {
          if (v !== null && v !== undefined) el.dataset[k] = String(v);
        }
      } else if (name === 'on') {
        for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
      } else if (name === 'text') {
        el.textContent = String(value);
      } else if (name === 'hidden') {
        el.hidden = Boolean(value);
      } else if (name === 'value') {
        el.value = String(value);
      } else {
        el.setAttribute(name, value === true ? '' : String(value));
      }
    }
  }
  append(el, children);
  return el;
}

export function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
  return parent;
}

// initials returns up to two letters for an avatar.
export function initials(name) {
  const parts = String(name || '').trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return '?';
  const chars = [...parts[0]];
  if (parts.length === 1) return chars.slice(0, /[\u3400-\u9fff]/.test(chars[0]) ? 1 : 2).join('').toUpperCase();
  return ([...parts[0]][0] + [...parts[parts.length - 1]][0]).toUpperCase();
}
