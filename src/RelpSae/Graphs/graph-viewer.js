// The attribution-graph viewer: draws a graph.json in circuit-tracer's schema (metadata, qParams, nodes,
// links) as SVG, rows by layer (embeddings at the bottom, logits at the top) and columns by prompt position.
// Plain DOM code with no library, so the page works from file:// with nothing else beside it.
(function () {
  'use strict';

  const SVG = 'http://www.w3.org/2000/svg';
  const graph = JSON.parse(document.getElementById('graph-data').textContent);
  const tokens = (graph.metadata && graph.metadata.prompt_tokens) || [];

  // Layout constants, in pixels.
  const NODE_GAP = 22, MIN_COLUMN = 64, LEFT = 64, TOP = 44, BOTTOM = 46, RIGHT = 20;

  const el = id => document.getElementById(id);

  function make(tag, attrs, text) {
    const e = tag.includes(':') ? document.createElementNS(SVG, tag.split(':')[1]) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // Tokens as circuit-tracer shows them: line breaks and tabs made visible.
  const shown = t => String(t ?? '').replace(/\n/g, '⏎').replace(/\t/g, '→').replace(/\r/g, '↵');

  function number(x) {
    if (x === null || x === undefined || x === '') return '—';
    const v = Number(x);
    if (!Number.isFinite(v)) return String(x);
    if (v !== 0 && (Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3)) return v.toExponential(2);
    return String(Number(v.toPrecision(3)));
  }

  // ---- the graph, indexed ----

  function kindOf(n) {
    const type = String(n.feature_type || '');
    if (type === 'embedding') return 'embedding';
    if (type === 'logit') return 'logit';
    if (type.includes('error')) return 'error';
    return 'feature';
  }

  function labelOf(n, kind) {
    const token = shown(tokens[n.ctx_idx]);
    if (n.clerp) return n.clerp;
    if (kind === 'embedding') return `Emb: “${token}”`;
    if (kind === 'error') return `Err: layer ${n.layer} “${token}”`;
    if (kind === 'logit') return `Output ${n.feature}`;
    return `L${n.layer} #${n.feature}`;
  }

  const nodes = graph.nodes.map(raw => {
    const kind = kindOf(raw);
    return { id: String(raw.node_id), raw, kind, label: labelOf(raw, kind), pos: Number(raw.ctx_idx) || 0, incoming: [], outgoing: [] };
  });
  const byId = new Map(nodes.map(n => [n.id, n]));
  const links = graph.links
    .filter(l => byId.has(String(l.source)) && byId.has(String(l.target)))
    .map(raw => ({ raw, source: byId.get(String(raw.source)), target: byId.get(String(raw.target)), weight: Number(raw.weight) }));
  links.forEach(l => { l.source.outgoing.push(l); l.target.incoming.push(l); });
  const maxWeight = links.reduce((m, l) => Math.max(m, Math.abs(l.weight)), 1e-30);

  // Rows: embeddings, then each block's layer in order, then the logits.
  const rowKey = n => n.kind === 'embedding' ? 'E' : n.kind === 'logit' ? 'logit' : String(n.raw.layer);
  const layers = [...new Set(nodes.filter(n => n.kind !== 'embedding' && n.kind !== 'logit').map(rowKey))]
    .sort((a, b) => Number(a) - Number(b));
  const rows = ['E', ...layers, 'logit'];
  const rowLabel = key => key === 'E' ? 'Emb' : key === 'logit' ? 'Logits' : `L${key}`;

  // Columns: one per prompt position, as wide as its fullest cell.
  const columnCount = nodes.reduce((m, n) => Math.max(m, n.pos + 1), tokens.length);
  const cells = new Map();
  nodes.forEach(n => {
    const key = `${rowKey(n)}|${n.pos}`;
    if (!cells.has(key)) cells.set(key, []);
    cells.get(key).push(n);
  });
  const widest = new Array(columnCount).fill(1);
  cells.forEach((members, key) => {
    const pos = Number(key.split('|')[1]);
    widest[pos] = Math.max(widest[pos], members.length);
  });
  // The graph fills the canvas it opens in where it is smaller: columns widen (up to 2.5-fold), rows grow up
  // to 70 px; a larger graph keeps 26 px rows and 64 px columns at least, and scrolls.
  const canvas = el('canvas');
  const natural = widest.map(w => Math.max(MIN_COLUMN, w * NODE_GAP + 12));
  const stretch = Math.max(1, Math.min(2.5, (canvas.clientWidth - LEFT - RIGHT) / natural.reduce((a, b) => a + b, 0)));
  const columnWidth = natural.map(w => w * stretch);
  const ROW_HEIGHT = Math.max(26, Math.min(70, Math.floor((canvas.clientHeight - TOP - BOTTOM) / rows.length)));
  const columnLeft = [];
  columnWidth.reduce((x, w, i) => { columnLeft[i] = x; return x + w; }, LEFT);
  const width = LEFT + columnWidth.reduce((a, b) => a + b, 0) + RIGHT;
  const height = TOP + rows.length * ROW_HEIGHT + BOTTOM;
  const rowY = key => TOP + (rows.length - 1 - rows.indexOf(key)) * ROW_HEIGHT + ROW_HEIGHT / 2;

  cells.forEach(members => {
    // Errors last in a cell, features by influence (circuit-tracer's cumulative score: small is important).
    const order = n => (n.kind === 'error' ? 1 : 0);
    members.sort((a, b) => order(a) - order(b) || (Number(a.raw.influence ?? 1) - Number(b.raw.influence ?? 1)));
    const first = members[0];
    const left = columnLeft[first.pos] + (columnWidth[first.pos] - members.length * NODE_GAP) / 2;
    members.forEach((n, i) => { n.x = left + (i + 0.5) * NODE_GAP; n.y = rowY(rowKey(first)); n.slot = i; });
  });

  // ---- an intervention recorded beside the graph (graph --steer/--clamp/--ablate) ----

  const intervention = graph.intervention && typeof graph.intervention === 'object' ? graph.intervention : null;
  const edits = intervention && Array.isArray(intervention.edits) ? intervention.edits : [];
  const changedLogits = intervention && Array.isArray(intervention.logits) ? intervention.logits : [];
  const logitByToken = new Map(changedLogits.map(l => [Number(l.token), l]));
  const finite = x => x !== null && x !== undefined && x !== '' && Number.isFinite(Number(x));
  // A node's change under the intervention: a feature's activation, a logit's value less the mean logit (measured); null: none recorded.
  function changeOf(n) {
    if (n.kind === 'feature') return finite(n.raw.intervened_activation) && finite(n.raw.activation) ? Number(n.raw.intervened_activation) - Number(n.raw.activation) : null;
    const l = n.kind === 'logit' ? logitByToken.get(Number(n.raw.feature)) : undefined;
    return l && finite(l.measured_delta) ? Number(l.measured_delta) : null;
  }
  // The nodes an edit names: its hook's block (blocks.L.…) and feature.
  const edited = new Set(edits.map(e => { const m = /^blocks\.(\d+)\./.exec(String(e.hook)); return m ? `${m[1]}_${e.feature}` : ''; }));
  nodes.forEach(n => {
    n.change = intervention ? changeOf(n) : null;
    n.edited = n.kind === 'feature' && edited.has(`${n.raw.layer}_${n.raw.feature}`);
  });
  const largestChange = kind => nodes.filter(n => n.kind === kind && n.change !== null).reduce((m, n) => Math.max(m, Math.abs(n.change)), 1e-30);
  const changeScale = { feature: largestChange('feature'), logit: largestChange('logit') };
  const editText = e => e.kind === 'ablate' ? `ablate ${e.hook}:${e.feature}` : `${e.kind} ${e.hook}:${e.feature}=${e.value}`;

  // ---- state: selection, pins, supernodes (circuit-tracer's qParams) ----

  const q = graph.qParams || {};
  const listOf = v => Array.isArray(v) ? v.map(String) : typeof v === 'string' && v ? v.split(',') : [];
  let pinned = listOf(q.pinnedIds).filter(id => byId.has(id));
  let supernodes = (Array.isArray(q.supernodes) ? q.supernodes : [])
    .filter(s => Array.isArray(s) && s.length > 1)
    .map(([name, ...members]) => ({ name: String(name), members: members.map(String).filter(id => byId.has(id)) }))
    .filter(s => s.members.length > 0);
  let selected = byId.get(String(q.clickedId || '')) || null;

  // ---- drawing ----

  const svg = make('svg:svg', { width, height, viewBox: `0 0 ${width} ${height}` });
  const axis = make('svg:g', { class: 'axis' });
  const edgeLayer = make('svg:g', { id: 'edges' });
  const nodeLayer = make('svg:g', { id: 'nodes' });
  const labelLayer = make('svg:g', { class: 'labels' });
  svg.append(axis, edgeLayer, nodeLayer, labelLayer);

  rows.forEach(key => {
    const y = rowY(key);
    axis.append(make('svg:line', { x1: LEFT, x2: width - RIGHT, y1: y, y2: y }));
    axis.append(make('svg:text', { x: 8, y: y + 4 }, rowLabel(key)));
  });
  for (let p = 0; p < columnCount; p++) {
    const x = columnLeft[p] + columnWidth[p] / 2;
    const text = shown(tokens[p]);
    const label = make('svg:text', { x, y: height - BOTTOM + 20, 'text-anchor': 'middle', class: 'token', 'data-pos': p },
      text.length > 10 ? text.slice(0, 9) + '…' : text);
    label.append(make('svg:title', {}, `${p}: ${text}`));
    axis.append(label);
  }

  links.forEach(l => {
    const { x: x1, y: y1 } = l.source, { x: x2, y: y2 } = l.target, mid = (y1 + y2) / 2;
    l.element = make('svg:path', {
      class: 'edge', d: `M${x1},${y1} C${x1},${mid} ${x2},${mid} ${x2},${y2}`,
      stroke: l.weight >= 0 ? '#2b6cb0' : '#c53030',
      'stroke-width': (0.4 + 5 * Math.sqrt(Math.abs(l.weight) / maxWeight)).toFixed(2),
      'data-source': l.source.id, 'data-target': l.target.id,
    });
    edgeLayer.append(l.element);
  });

  nodes.forEach(n => {
    const g = make('svg:g', { class: `node ${n.kind}`, 'data-node-id': n.id, transform: `translate(${n.x},${n.y})` });
    if (n.edited) g.classList.add('edited');
    if (n.kind === 'feature') g.append(make('svg:circle', { r: 7 }));
    else if (n.kind === 'error') g.append(make('svg:rect', { x: -6, y: -6, width: 12, height: 12, transform: 'rotate(45)' }));
    else g.append(make('svg:rect', { x: -9, y: -7, width: 18, height: 14, rx: n.kind === 'logit' ? 4 : 1 }));
    if (n.kind === 'logit') {
      if (n.raw.is_target_logit) g.classList.add('target');
      const token = (/"(.*)"/.exec(n.label) || [])[1] ?? String(n.raw.feature);
      // Neighbouring logits' labels at two heights, so that they do not run together.
      // Drawn apart from the node, so that the node's box (where a click lands) is its shape alone.
      labelLayer.append(make('svg:text', { x: n.x, y: n.y + (n.slot % 2 ? -23 : -11), 'text-anchor': 'middle' }, token.length > 10 ? token.slice(0, 9) + '…' : token));
    }
    n.element = g;
    g.addEventListener('mouseenter', e => hover(n, e));
    g.addEventListener('mousemove', moveTooltip);
    g.addEventListener('mouseleave', () => hover(null));
    g.addEventListener('click', e => { if (e.shiftKey) togglePin(n); else select(n); });
    nodeLayer.append(g);
  });
  canvas.append(svg);

  // ---- hover ----

  const tooltip = el('tooltip');

  // The hovered node's edges are lit, else the clicked node's (the others fade less for a click).
  function hover(n, event) {
    const focus = n || selected;
    svg.classList.toggle('hovering', !!n);
    svg.classList.toggle('focused', !n && !!selected);
    links.forEach(l => l.element.classList.toggle('lit', !!focus && (l.source === focus || l.target === focus)));
    if (!n) { tooltip.style.display = 'none'; return; }
    tooltip.replaceChildren(make('b', {}, n.label), make('br'),
      make('span', { class: 'muted' }, `${n.kind} · ${rowLabel(rowKey(n))} · pos ${n.pos} “${shown(tokens[n.pos])}”`), make('br'),
      make('span', {}, `activation ${number(n.raw.activation)} · influence ${number(n.raw.influence)} · ${n.incoming.length} in, ${n.outgoing.length} out`));
    if (n.change !== null) tooltip.append(make('br'), make('span', { class: n.change >= 0 ? 'pos' : 'neg' }, n.kind === 'feature'
      ? `under the intervention: activation ${number(n.raw.activation)} → ${number(n.raw.intervened_activation)}${n.edited ? ' (edited)' : ''}`
      : `under the intervention: logit − mean logit ${n.change >= 0 ? '+' : ''}${number(n.change)} (measured)`));
    tooltip.style.display = 'block';
    moveTooltip(event);
  }

  function moveTooltip(event) {
    if (!event) return;
    tooltip.style.left = `${event.clientX + 14}px`;
    tooltip.style.top = `${event.clientY + 14}px`;
  }

  // ---- the side panel ----

  function edgeTable(id, edges, other) {
    const hasMeasured = edges.some(l => l.raw.measured !== undefined && l.raw.measured !== null);
    const table = make('table', { id });
    const head = make('tr');
    head.append(make('th', {}, 'node'), make('th', {}, 'weight'));
    if (hasMeasured) head.append(make('th', { title: 'the effect measured by patching' }, 'measured'));
    table.append(head);
    [...edges].sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight)).forEach(l => {
      const peer = other(l);
      const row = make('tr', { 'data-node-id': peer.id, 'data-weight': l.raw.weight });
      row.append(make('td', { title: peer.id }, peer.label),
        make('td', { class: l.weight >= 0 ? 'pos' : 'neg' }, number(l.weight)));
      if (hasMeasured) row.append(make('td', {}, number(l.raw.measured)));
      row.addEventListener('click', () => select(peer));
      table.append(row);
    });
    return table;
  }

  function facts(n) {
    const dl = make('dl', { id: 'node-facts' });
    const add = (name, value) => { if (value !== undefined && value !== null && value !== '') dl.append(make('dt', {}, name), make('dd', {}, value)); };
    add('id', n.id);
    add('type', n.raw.feature_type);
    add('layer', String(n.raw.layer));
    add('position', `${n.pos} “${shown(tokens[n.pos])}”`);
    if (n.kind === 'feature') add('feature', String(n.raw.feature));
    add('activation', n.raw.activation === undefined ? undefined : number(n.raw.activation));
    add('bias', n.raw.bias === undefined ? undefined : number(n.raw.bias));
    add('influence', n.raw.influence === undefined ? undefined : number(n.raw.influence));
    if (n.kind === 'feature' && n.change !== null) add('under the intervention', number(n.raw.intervened_activation));
    if (n.kind === 'logit') add('probability', number(n.raw.token_prob));
    return dl;
  }

  // A node's feature dashboard (one entry of features.json's "features", attached under "dashboard").
  function dashboard(d) {
    const box = make('div', { id: 'dashboard' });
    box.append(make('h3', {}, 'Feature dashboard'),
      make('p', { class: 'muted' }, `fires on ${number(100 * Number(d.frac_nonzero))}% of tokens · max activation ${number(d.max_act)}`));
    const outputs = (title, strs, values, cls) => {
      if (!Array.isArray(strs) || strs.length === 0) return;
      box.append(make('h3', {}, title));
      const list = make('div', { class: `outputs ${cls}` });
      strs.forEach((s, i) => list.append(make('span', { class: cls }, `“${shown(s)}” ${number((values || [])[i])}  `)));
      box.append(list);
    };
    outputs('Raises', d.pos_str, d.pos_values, 'pos');
    outputs('Lowers', d.neg_str, d.neg_values, 'neg');
    const contexts = Array.isArray(d.activations) ? d.activations : [];
    if (contexts.length) box.append(make('h3', {}, 'Top activating contexts'));
    const top = Math.max(1e-30, Number(d.max_act) || 0, ...contexts.map(c => Number(c.max_value) || 0));
    contexts.forEach(c => {
      const line = make('div', { class: 'context' });
      (c.tokens || []).forEach((t, i) => {
        const v = Number((c.values || [])[i]) || 0;
        const span = make('span', { title: number(v), style: `background: rgba(245, 158, 11, ${Math.min(1, Math.max(0, v / top)).toFixed(3)})` }, shown(t));
        if (i === c.max_value_token_index) span.classList.add('peak');
        line.append(span);
      });
      box.append(line);
    });
    return box;
  }

  function renderPanel() {
    const panel = el('panel');
    if (!selected) { panel.replaceChildren(make('p', { class: 'muted' }, 'Click a node to see its edges.')); return; }
    const n = selected;
    const pin = make('button', { id: 'pin-toggle', type: 'button' }, pinned.includes(n.id) ? 'Unpin' : 'Pin');
    pin.addEventListener('click', () => togglePin(n));
    panel.replaceChildren(make('h2', { id: 'node-title' }, n.label), facts(n), pin,
      make('h3', {}, `Incoming edges (${n.incoming.length})`), edgeTable('incoming', n.incoming, l => l.source),
      make('h3', {}, `Outgoing edges (${n.outgoing.length})`), edgeTable('outgoing', n.outgoing, l => l.target));
    if (n.raw.dashboard && typeof n.raw.dashboard === 'object') panel.append(dashboard(n.raw.dashboard));
  }

  function select(n) {
    if (selected) selected.element.classList.remove('selected');
    selected = n;
    if (n) n.element.classList.add('selected');
    renderPanel();
    if (!svg.classList.contains('hovering')) hover(null);
  }

  // ---- pins and supernodes ----

  const palette = ['#fbbf24', '#34d399', '#a78bfa', '#f87171', '#60a5fa', '#f472b6', '#a3e635', '#fb923c'];

  function togglePin(n) {
    if (pinned.includes(n.id)) {
      pinned = pinned.filter(id => id !== n.id);
      supernodes = supernodes.map(s => ({ ...s, members: s.members.filter(id => id !== n.id) })).filter(s => s.members.length > 0);
    } else pinned.push(n.id);
    renderPins();
    if (selected) renderPanel();
  }

  function renderPins() {
    const grouped = new Map();
    supernodes.forEach((s, i) => s.members.forEach(id => grouped.set(id, palette[i % palette.length])));
    groupColour = grouped;
    nodes.forEach(n => n.element.classList.toggle('pinned', pinned.includes(n.id)));
    paint();
    el('pins').replaceChildren(...pinned.map(id => {
      const li = make('li', { 'data-node-id': id }, `${byId.get(id).label} `);
      const unpin = make('button', { type: 'button', title: 'unpin' }, '×');
      unpin.addEventListener('click', () => togglePin(byId.get(id)));
      li.append(unpin);
      return li;
    }));
    el('supernodes').replaceChildren(...supernodes.map((s, i) => {
      const li = make('li', { 'data-supernode': s.name });
      li.append(make('span', { class: 'swatch', style: `background: ${palette[i % palette.length]}` }),
        make('b', {}, s.name), make('span', { class: 'muted' }, ` ${s.members.map(id => byId.get(id).label).join(', ')} `));
      const remove = make('button', { type: 'button', title: 'ungroup' }, '×');
      remove.addEventListener('click', () => { supernodes = supernodes.filter(t => t !== s); renderPins(); });
      li.append(remove);
      return li;
    }));
  }

  // Each node's fill: its change under the intervention when colouring by it is on (blue up, red down, the strongest
  // of its kind the deepest), else its supernode's colour, else its kind's.
  let groupColour = new Map(), colourByChange = false;
  function paint() {
    nodes.forEach(n => {
      let fill = groupColour.get(n.id) || '';
      if (colourByChange && n.change !== null) {
        const depth = Math.min(1, Math.abs(n.change) / changeScale[n.kind]).toFixed(3);
        fill = n.change >= 0 ? `rgba(43, 108, 176, ${depth})` : `rgba(197, 48, 48, ${depth})`;
      }
      n.element.firstChild.style.fill = fill;
    });
  }

  function renderIntervention() {
    if (!intervention) return;
    const box = el('intervention');
    box.hidden = false;
    const list = make('ul', { id: 'intervention-edits' });
    edits.forEach(e => list.append(make('li', {}, editText(e))));
    const predicted = intervention.predicted === true;
    const table = make('table', { id: 'intervention-logits' });
    const head = make('tr');
    head.append(make('th', {}, 'token'), make('th', {}, 'p clean → intervened'),
      make('th', { title: 'the change of the logit less the mean logit, measured by running the model with the intervention' }, 'Δ measured'),
      make('th', { title: 'the linear graph\'s prediction of that change' }, 'Δ predicted'));
    table.append(head);
    changedLogits.forEach(l => {
      const row = make('tr', { 'data-token': l.token });
      row.append(make('td', { title: `token ${l.token}${l.in_graph ? '' : ', not a logit of the graph'}` }, `“${shown(l.token_str)}”${l.in_graph ? '' : ' *'}`),
        make('td', {}, `${number(l.clean_prob)} → ${number(l.intervened_prob)}`),
        make('td', { class: Number(l.measured_delta) >= 0 ? 'pos' : 'neg' }, number(l.measured_delta)),
        make('td', {}, number(l.predicted_delta)));
      table.append(row);
    });
    const toggle = make('input', { id: 'colour-by-change', type: 'checkbox' });
    toggle.addEventListener('change', () => { colourByChange = toggle.checked; paint(); });
    const label = make('label');
    label.append(toggle, ' colour nodes by their change (blue up, red down)');
    const outside = Array.isArray(intervention.outside_graph) ? intervention.outside_graph : [];
    box.replaceChildren(make('h3', {}, 'Intervention'),
      make('p', { class: 'muted' }, 'The graph is of the clean prompt; the model was also run with these edits (edited nodes are outlined):'),
      list, table,
      make('p', { class: 'muted' }, (predicted ? 'Predicted: the linear graph\'s change, from the edited nodes\' paths onto each logit.'
        : 'Steering adds a decoder direction, which is no node\'s change: measured only.') + ' * not a logit of the graph.'),
      label);
    if (outside.length) box.append(make('p', { class: 'muted', id: 'outside-graph' }, `${outside.length} change(s) without a node in the graph, left out of the prediction: ${outside.slice(0, 5).join('; ')}${outside.length > 5 ? '; …' : ''}`));
  }

  // Groups the pinned nodes that are in no supernode yet under the name typed.
  el('group').addEventListener('click', () => {
    const taken = new Set(supernodes.flatMap(s => s.members));
    const members = pinned.filter(id => !taken.has(id));
    if (members.length === 0) return;
    supernodes.push({ name: el('supernode-name').value.trim() || 'supernode', members });
    renderPins();
  });

  // ---- the edge filter ----

  function applyFilter() {
    const fraction = Number(el('min-weight').value);
    const threshold = fraction * maxWeight;
    let shownEdges = 0;
    links.forEach(l => {
      const hidden = Math.abs(l.weight) < threshold;
      l.element.classList.toggle('filtered', hidden);
      if (!hidden) shownEdges++;
    });
    el('min-weight-value').textContent = number(threshold);
    el('counts').textContent = `${nodes.length} nodes, ${shownEdges} of ${links.length} edges`;
  }
  el('min-weight').addEventListener('input', applyFilter);

  // ---- saving: the graph as loaded, its qParams holding the pins and supernodes as circuit-tracer stores them ----

  el('save').addEventListener('click', () => {
    const saved = {
      ...graph,
      qParams: {
        ...q,
        pinnedIds: [...pinned],
        supernodes: supernodes.map(s => [s.name, ...s.members]),
        linkType: q.linkType || 'both',
        clickedId: selected ? selected.id : '',
        sg_pos: q.sg_pos || '',
      },
    };
    const url = URL.createObjectURL(new Blob([JSON.stringify(saved, null, 1)], { type: 'application/json' }));
    const a = make('a', { href: url, download: 'graph.json' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });

  el('prompt').textContent = shown(graph.metadata && graph.metadata.prompt);
  document.title = `Attribution graph: ${shown(graph.metadata && (graph.metadata.slug || graph.metadata.prompt))}`;
  applyFilter();
  renderIntervention();
  renderPins();
  select(selected);
})();
