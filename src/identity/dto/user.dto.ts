import { IsOptionalNotNull } from '../../infra/http/validation';
import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsEmail, IsEnum, IsOptional, IsString, IsUUID, Length, MaxLength } from 'class-validator';
import { UserRole } from '../../infra/database/generated/client';
import { PageQuery } from '../../infra/http/pagination';
import { IsAcceptablePassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../password-policy';

const lowerTrim = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.trim().toLowerCase() : value;

export class CreateUserDto {
  @ApiProperty({ format: 'email' })
  @Transform(lowerTrim)
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @ApiProperty()
  @IsString()
  @Length(1, 200)
  fullName!: string;

  @ApiProperty({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH })
  @IsString()
  @IsAcceptablePassword()
  password!: string;

  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  companyId!: string;

  @ApiProperty({ enum: UserRole })
  @IsEnum(UserRole)
  role!: UserRole;
}

/** Like creating a user, without a password: the invitee chooses it. */
export class InviteUserDto extends OmitType(CreateUserDto, ['password'] as const) {}

export class UpdateUserDto {
  @ApiPropertyOptional({ format: 'email', description: 'A changed email is unverified until confirmed' })
  @IsOptionalNotNull()
  @Transform(lowerTrim)
  @IsEmail()
  @MaxLength(254)
  email?: string;

  @ApiPropertyOptional()
  @IsOptionalNotNull()
  @IsString()
  @Length(1, 200)
  fullName?: string;

  @ApiPropertyOptional({ enum: UserRole })
  @IsOptionalNotNull()
  @IsEnum(UserRole)
  role?: UserRole;

  @ApiPropertyOptional()
  @IsOptionalNotNull()
  @IsBoolean()
  isActive?: boolean;
}

export class ListUsersQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  companyId?: string;

  @ApiPropertyOptional({ enum: UserRole })
  @IsOptional()
  @IsEnum(UserRole)
  role?: UserRole;
}

export class UserResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) companyId!: string;
  @ApiProperty() email!: string;
  @ApiProperty() fullName!: string;
  @ApiProperty({ enum: UserRole }) role!: UserRole;
  @ApiProperty() isActive!: boolean;
  @ApiProperty() isVerified!: boolean;
  @ApiProperty({ nullable: true, type: 'string' }) profilePictureUrl!: string | null;
  @ApiProperty({ nullable: true, type: 'string' }) lastLoginAt!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class UserPage {
  @ApiProperty({ type: [UserResponse] }) items!: UserResponse[];
  @ApiProperty({ nullable: true, type: 'string' }) nextCursor!: string | null;
}
