import { Link } from 'react-router';

export function NotFoundPage() {
  return (
    <section className="card">
      <h1>Page not found</h1>
      <p className="muted">
        There is nothing here. Go back to the <Link to="/">overview</Link>.
      </p>
    </section>
  );
}
