/**
 * The first key that appears twice in one object of a JSON text, with its path, or undefined.
 * JSON.parse keeps the last of duplicates silently, so `{"weight": 1, "weight": 100}` would mean
 * something else to a reviewer reading the request than to Glidepath. Runs on text that already
 * parsed, in one pass.
 */
export function duplicateJsonKey(text: string): string | undefined {
  // One frame per open container: the keys seen (objects only) and the path to it.
  const frames: Array<{ keys?: Set<string>; path: string; index: number }> = [];
  let expectKey = false;
  let lastKey = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const top = frames.at(-1);
      if (expectKey && top?.keys) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) return top.path ? `${top.path}.${key}` : key;
        top.keys.add(key);
        lastKey = key;
        expectKey = false;
      }
      i = end;
    } else if (c === '{' || c === '[') {
      const parent = frames.at(-1);
      const name = parent ? (parent.keys ? lastKey : String(parent.index)) : '';
      const path = parent ? (parent.path ? `${parent.path}.${name}` : name) : '';
      frames.push(c === '{' ? { keys: new Set(), path, index: 0 } : { path, index: 0 });
      expectKey = c === '{';
    } else if (c === '}' || c === ']') {
      frames.pop();
    } else if (c === ',') {
      const top = frames.at(-1);
      if (top?.keys) expectKey = true;
      else if (top) top.index += 1;
    }
  }
  return undefined;
}
