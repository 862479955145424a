import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, Length, MaxLength } from 'class-validator';
import { CompanyResponse } from '../../tenancy/dto/company.dto';
import { IsAcceptablePassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../password-policy';
import { UserResponse } from './user.dto';

export class LoginDto {
  @ApiProperty({ format: 'email' })
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.trim().toLowerCase() : value,
  )
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @ApiProperty()
  @IsString()
  @Length(1, PASSWORD_MAX_LENGTH)
  password!: string;
}

export class RefreshDto {
  @ApiProperty()
  @IsString()
  @Length(1, 200)
  refreshToken!: string;
}

export class ChangePasswordDto {
  @ApiProperty()
  @IsString()
  @Length(1, PASSWORD_MAX_LENGTH)
  currentPassword!: string;

  @ApiProperty({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH })
  @IsString()
  @IsAcceptablePassword()
  newPassword!: string;
}

export class TokenPairResponse {
  @ApiProperty() accessToken!: string;
  @ApiProperty() refreshToken!: string;
  @ApiProperty({ description: 'Access token lifetime in seconds' }) expiresIn!: number;
  @ApiProperty({ type: UserResponse }) user!: UserResponse;
}

export class MeResponse extends UserResponse {
  @ApiProperty({ type: CompanyResponse }) company!: CompanyResponse;
  @ApiProperty({ type: [String], description: 'Company ids the caller may act on' }) scope!: string[];
}

const lowerTrim = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.trim().toLowerCase() : value;

/** A mailed single-use token (invitation, verification, reset). */
export class TokenDto {
  @ApiProperty()
  @IsString()
  @Length(1, 200)
  token!: string;
}

export class TokenAndPasswordDto extends TokenDto {
  @ApiProperty({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH })
  @IsString()
  @IsAcceptablePassword()
  password!: string;
}

export class EmailDto {
  @ApiProperty({ format: 'email' })
  @Transform(lowerTrim)
  @IsEmail()
  @MaxLength(254)
  email!: string;
}

export class AcceptedResponse {
  @ApiProperty({ example: 'If the address belongs to an account, a message is on its way.' })
  message!: string;
}
