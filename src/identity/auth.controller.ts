import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Public } from '../infra/http/public';
import { CurrentCaller, type Caller } from '../tenancy/caller';
import { AuthService } from './auth.service';
import {
  AcceptedResponse,
  ChangePasswordDto,
  EmailDto,
  LoginDto,
  MeResponse,
  RefreshDto,
  TokenAndPasswordDto,
  TokenDto,
  TokenPairResponse,
} from './dto/auth.dto';

/** The same bytes whether or not the address has an account. */
const ACCEPTED: AcceptedResponse = {
  message: 'If the address belongs to an account, a message is on its way.',
};
import { EmailRateLimitGuard } from './email-rate-limit.guard';
import { AccountService } from './account.service';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly account: AccountService,
  ) {}

  @Public()
  @UseGuards(EmailRateLimitGuard)
  @Post('login')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairResponse })
  login(@Body() dto: LoginDto) {
    return this.auth.login(dto.email, dto.password);
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairResponse })
  refresh(@Body() dto: RefreshDto) {
    return this.auth.refresh(dto.refreshToken);
  }

  @ApiBearerAuth()
  @Post('logout')
  @HttpCode(204)
  @ApiNoContentResponse()
  logout(@CurrentCaller() caller: Caller, @Body() dto: RefreshDto) {
    return this.auth.logout(caller, dto.refreshToken);
  }

  @ApiBearerAuth()
  @Get('me')
  @ApiOkResponse({ type: MeResponse })
  me(@CurrentCaller() caller: Caller) {
    return this.auth.me(caller);
  }

  @ApiBearerAuth()
  @Post('change-password')
  @HttpCode(204)
  @ApiNoContentResponse()
  changePassword(@CurrentCaller() caller: Caller, @Body() dto: ChangePasswordDto) {
    return this.auth.changePassword(caller, dto);
  }

  @Public()
  @Post('accept-invitation')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairResponse })
  acceptInvitation(@Body() dto: TokenAndPasswordDto) {
    return this.account.acceptInvitation(dto.token, dto.password);
  }

  @Public()
  @Post('verify-email')
  @HttpCode(204)
  @ApiNoContentResponse()
  verifyEmail(@Body() dto: TokenDto) {
    return this.account.verifyEmail(dto.token);
  }

  @Public()
  @UseGuards(EmailRateLimitGuard)
  @Post('resend-verification')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: AcceptedResponse })
  resendVerification(@Body() dto: EmailDto): AcceptedResponse {
    this.account.resendVerification(dto.email);
    return ACCEPTED;
  }

  @Public()
  @UseGuards(EmailRateLimitGuard)
  @Post('forgot-password')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: AcceptedResponse })
  forgotPassword(@Body() dto: EmailDto): AcceptedResponse {
    this.account.forgotPassword(dto.email);
    return ACCEPTED;
  }

  @Public()
  @Post('reset-password')
  @HttpCode(204)
  @ApiNoContentResponse()
  resetPassword(@Body() dto: TokenAndPasswordDto) {
    return this.account.resetPassword(dto.token, dto.password);
  }
}
