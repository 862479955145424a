import { SetMetadata } from '@nestjs/common';

export const PUBLIC_ROUTE = 'hb:public';

/** Marks a route that needs no access token (login, refresh, health). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
