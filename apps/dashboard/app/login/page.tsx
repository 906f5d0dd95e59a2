import { LoginForm } from './login-form';

export const metadata = { title: 'Log in · Sluice' };

export default function LoginPage() {
  return (
    <div className="login panel">
      <h1>Log in</h1>
      <p className="muted">
        Paste an API token (<code>npm run -s cli -- token create --role viewer --name you</code>). It is kept
        in an httpOnly cookie: scripts in this page cannot read it.
      </p>
      <LoginForm />
    </div>
  );
}
