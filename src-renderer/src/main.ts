/**
 * Renderer entry. The React dashboard (zustand + recharts) lands with the dashboard
 * issue; until then the window states where the live figures are: the engine runs in
 * the main process and the headless summary prints them.
 */
const root = document.getElementById('root');
if (root) {
  const heading = document.createElement('h1');
  heading.textContent = 'Switchboard';
  const note = document.createElement('p');
  note.textContent = 'The engine is running in the main process. Live figures: run `npm run serve` for the headless summary.';
  root.append(heading, note);
}
