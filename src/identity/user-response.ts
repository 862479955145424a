import type { User } from '../infra/database/generated/client';
import type { UserResponse } from './dto/user.dto';

/** The public shape of a user: never the password hash. */
export function toUserResponse(user: User): UserResponse {
  return {
    id: user.id,
    companyId: user.companyId,
    email: user.email,
    fullName: user.fullName,
    role: user.role,
    isActive: user.isActive,
    isVerified: user.isVerified,
    profilePictureUrl: user.profilePictureUrl,
    lastLoginAt: user.lastLoginAt?.toISOString() ?? null,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}
