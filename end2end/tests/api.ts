import { expect, type APIRequestContext } from '@playwright/test';
import { DEMO_PASSWORD } from './fixtures';

// Setting the stage through the REST API, so a browser test spends its time
// on the screen it is about.

export interface ApiTicket {
  id: string;
  display_number: string;
  subject: string;
  status: string;
}

/** An access token for a demo user. */
export async function apiToken(request: APIRequestContext, email: string): Promise<string> {
  const res = await request.post('/api/v1/auth/login', { data: { email, password: DEMO_PASSWORD } });
  expect(res.status(), `API sign-in as ${email}`).toBe(200);
  return (await res.json()).access_token;
}

const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

export async function apiCreateTicket(
  request: APIRequestContext,
  token: string,
  subject: string,
  description: string,
): Promise<ApiTicket> {
  const res = await request.post('/api/v1/tickets', { headers: auth(token), data: { subject, description } });
  expect(res.status(), 'create ticket').toBe(201);
  return res.json();
}

export async function apiComment(request: APIRequestContext, token: string, ticketId: string, body: string) {
  const res = await request.post(`/api/v1/tickets/${ticketId}/comments`, {
    headers: auth(token),
    data: { body, public: true },
  });
  expect(res.status(), 'add comment').toBe(201);
}

export async function apiSetStatus(request: APIRequestContext, token: string, ticketId: string, status: string) {
  const res = await request.put(`/api/v1/tickets/${ticketId}/status`, { headers: auth(token), data: { status } });
  expect(res.status(), `set status ${status}`).toBe(200);
}

export async function apiTicket(request: APIRequestContext, token: string, ticketId: string): Promise<ApiTicket> {
  const res = await request.get(`/api/v1/tickets/${ticketId}`, { headers: auth(token) });
  expect(res.status()).toBe(200);
  return res.json();
}
