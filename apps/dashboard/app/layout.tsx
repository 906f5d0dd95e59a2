import type { Metadata } from 'next';
import { ControlPlaneBanner } from '@/components/control-plane-banner';
import { LogoutButton } from '@/components/logout-button';
import { NavLinks } from '@/components/nav-links';
import { currentSession, roleAtLeast } from '@/lib/session';
import './globals.css';

export const metadata: Metadata = { title: 'Sluice', description: 'Streaming queries control plane' };

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  const session = await currentSession();
  const links = [
    { href: '/queries', label: 'Queries' },
    { href: '/alerts', label: 'Alerts' },
    ...(session && roleAtLeast(session.role, 'operator') ? [{ href: '/deploy', label: 'Deploy' }] : []),
    ...(session && roleAtLeast(session.role, 'admin')
      ? [
          { href: '/audit', label: 'Audit log' },
          { href: '/tokens', label: 'Tokens' },
        ]
      : []),
  ];
  return (
    <html lang="en">
      <body>
        <header className="top">
          <span className="brand">Sluice</span>
          {session && <NavLinks links={links} />}
          {session && (
            <div className="who">
              <span data-testid="who">
                {session.name} ({session.role})
              </span>
              <LogoutButton />
            </div>
          )}
        </header>
        <ControlPlaneBanner />
        <main>{children}</main>
      </body>
    </html>
  );
}
