import { Global, Module } from '@nestjs/common';
import { PrismaService } from './prisma.service';
import { ScopedDb } from './tenant-scope';

@Global()
@Module({ providers: [PrismaService, ScopedDb], exports: [PrismaService, ScopedDb] })
export class DatabaseModule {}
