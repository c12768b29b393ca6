/**
 * Texts of the login and consent pages. English labels are stable (browser tests and integrators
 * rely on them). Arabic is the right-to-left language. Add a language by adding a table and listing
 * it in config `oidc.uiLocales`.
 */
export interface Texts {
  readonly dir: 'ltr' | 'rtl';
  readonly languageName: string;
  readonly signInTo: string;
  readonly chooseMethod: string;
  readonly individualId: string;
  readonly oneTimeCode: string;
  /** Label of the captcha token field (filled by the captcha widget the deployment embeds). */
  readonly captcha: string;
  readonly pin: string;
  readonly password: string;
  readonly getCode: string;
  readonly resendCode: string;
  readonly verify: string;
  readonly allow: string;
  readonly cancel: string;
  readonly factor: Record<string, string>;
  readonly codeSentTo: string;
  readonly resendIn: string;
  readonly consentTitle: string;
  readonly consentIntro: string;
  readonly essential: string;
  readonly voluntary: string;
  readonly essentialNote: string;
  readonly credentials: string;
  readonly noClaims: string;
  /** A detail asked for as verified (OpenID Connect for Identity Assurance): under what, by what. */
  readonly verifiedUnder: string;
  readonly verifiedBy: string;
  /** Asked for as verified, but no verification record covers it: it is not shared as verified. */
  readonly notVerified: string;
  /** Evidence types (Identity Assurance `evidence.type`). */
  readonly evidence: Record<string, string>;
  readonly claim: Record<string, string>;
  readonly kbiField: Record<string, string>;
  readonly errors: Record<string, string>;
  readonly errorTitle: string;
  readonly startAgain: string;
  readonly logoutTitle: string;
  readonly logoutQuestion: string;
  readonly logoutYes: string;
  readonly logoutNo: string;
  readonly loggedOut: string;
  /** The wallet login (OpenID4VP): its page, its states, and why a presentation was refused. */
  readonly wallet: Record<WalletText, string>;
}

export type WalletText =
  | 'offer'
  | 'title'
  | 'scan'
  | 'sameDevice'
  | 'expiresIn'
  | 'waiting'
  | 'expired'
  | 'newCode'
  | 'verified'
  | 'otherWays'
  | 'needsScript'
  | 'revoked'
  | 'suspended'
  | 'not_holder'
  | 'not_ours'
  | 'not_linked'
  | 'other_request'
  | 'replayed'
  | 'invalid'
  | 'not_yours'
  | 'offer_other_person'
  | 'linkedOffer'
  | 'linkedTitle'
  | 'linkedScan'
  | 'linkedConnected'
  | 'linkedVerified'
  | 'not_linked_key';

const en: Texts = {
  dir: 'ltr',
  languageName: 'English',
  signInTo: 'Sign in to {rp}',
  chooseMethod: 'Choose how to sign in',
  individualId: 'Individual ID',
  oneTimeCode: 'One-time code',
  captcha: 'Captcha',
  pin: 'PIN',
  password: 'Password',
  getCode: 'Get code',
  resendCode: 'Get code',
  verify: 'Verify',
  allow: 'Allow',
  cancel: 'Cancel',
  factor: {
    otp: 'One-time code',
    pin: 'PIN',
    password: 'Password',
    kbi: 'Personal details',
    biometric: 'Biometrics',
    wallet: 'Wallet',
    vp: 'Log in with your wallet',
  },
  codeSentTo: 'We sent a code to {to}. It is valid for a few minutes.',
  resendIn: 'You can ask for a new code in {s} seconds.',
  consentTitle: 'Share your details',
  consentIntro: '{rp} asks for the following details.',
  verifiedUnder: 'Verified under {framework}',
  verifiedBy: 'by {evidence}',
  notVerified: 'Not verified: it will not be shared as verified',
  evidence: {
    document: 'an identity document',
    electronic_record: 'an electronic record',
    vouch: 'a voucher',
    electronic_signature: 'an electronic signature',
  },
  essential: 'Required',
  voluntary: 'Optional (untick to keep private)',
  essentialNote: 'Required details are always shared when you allow.',
  credentials: 'Credentials to issue',
  noClaims: '{rp} asks only to confirm that you signed in.',
  claim: {
    name: 'Full name',
    given_name: 'Given name',
    family_name: 'Family name',
    middle_name: 'Middle name',
    nickname: 'Nickname',
    preferred_username: 'Username',
    picture: 'Photo',
    gender: 'Gender',
    birthdate: 'Date of birth',
    locale: 'Language',
    updated_at: 'Last update',
    email: 'E-mail address',
    email_verified: 'E-mail verified',
    phone_number: 'Phone number',
    phone_number_verified: 'Phone number verified',
    address: 'Address',
  },
  kbiField: {
    name: 'Full name',
    birthdate: 'Date of birth',
    phone_number: 'Phone number',
    email: 'E-mail address',
  },
  errors: {
    auth_failed: 'The details you entered are not correct. Check them and try again.',
    wrong_code: 'The code is not correct or has expired. Check it, or get a new code.',
    no_attempts_left: 'Too many attempts. Sign-in for this ID is blocked for a while: try again later.',
    too_many_requests: 'Too many codes were requested. Wait a little, then try again.',
    invalid_transaction: 'This sign-in has expired. Go back to the application and start again.',
    invalid_request: 'Something was missing from the form. Fill in every field and try again.',
    forbidden: 'This form was not sent from this page. Reload the page and try again.',
    unsupported_factor: 'This sign-in method is not available here.',
    server_error: 'Something went wrong on our side. Try again in a moment.',
    temporarily_unavailable: 'The service is busy. Try again in a moment.',
    invalid_captcha: 'The captcha was not solved or has expired. Solve it again, then get a code.',
    capture_rejected:
      'The capture was not accepted for this ID. Check the ID and capture again, or choose another way to sign in.',
  },
  errorTitle: 'Sign-in problem',
  startAgain: 'Go back to the application and start the sign-in again.',
  logoutTitle: 'Sign out',
  logoutQuestion: 'Do you want to sign out?',
  logoutYes: 'Sign out',
  logoutNo: 'Stay signed in',
  loggedOut: 'You are signed out.',
  wallet: {
    offer: 'Log in with your wallet',
    title: 'Log in with your wallet',
    scan: 'Scan this code with the wallet app on your phone. Your wallet shows what it shares: only your identity card, no personal details.',
    sameDevice: 'Open my wallet on this device',
    expiresIn: 'This code expires in {s} seconds.',
    waiting: 'Waiting for your wallet…',
    expired: 'This code has expired. Ask for a new code to try again.',
    newCode: 'New code',
    verified: 'Your wallet was verified. Continuing…',
    otherWays: 'Other ways to sign in',
    needsScript: 'After your wallet has answered, select Continue.',
    revoked: 'This identity card was revoked. It cannot be used to sign in.',
    suspended: 'This identity card is suspended. It cannot be used to sign in now.',
    not_holder: 'The wallet could not prove that this identity card is yours.',
    not_ours: 'This card was not issued by us. Present the identity card we issued.',
    not_linked:
      'This wallet is not linked to an account for signing in. Link it first, or sign in another way.',
    other_request: 'The wallet answered another sign-in. Ask for a new code and scan it again.',
    replayed: 'This code was already used. Ask for a new code.',
    invalid: 'The wallet sent something we could not read. Ask for a new code and try again.',
    not_yours:
      'This identity card was not issued to the person this wallet is linked to. Present your own card.',
    offer_other_person: 'This sign-in belongs to a credential offer made for another person.',
    linkedOffer: 'Log in with a linked wallet',
    linkedTitle: 'Log in with a linked wallet',
    linkedScan:
      'Scan this code with the wallet you linked to your identity. Your wallet signs in for you with its linked key.',
    linkedConnected: 'Your wallet is connected. Confirm the sign-in in your wallet…',
    linkedVerified: 'Your wallet signed you in. Continuing…',
    not_linked_key:
      'Your wallet could not sign you in: its key is not linked to this identity. Link the wallet again, or sign in another way.',
  },
};

const ar: Texts = {
  dir: 'rtl',
  languageName: 'العربية',
  signInTo: 'تسجيل الدخول إلى {rp}',
  chooseMethod: 'اختر طريقة تسجيل الدخول',
  individualId: 'رقم الهوية',
  oneTimeCode: 'رمز لمرة واحدة',
  captcha: 'رمز التحقق البشري',
  pin: 'الرقم السري',
  password: 'كلمة المرور',
  getCode: 'احصل على الرمز',
  resendCode: 'احصل على الرمز',
  verify: 'تحقق',
  allow: 'سماح',
  cancel: 'إلغاء',
  factor: {
    otp: 'رمز لمرة واحدة',
    pin: 'الرقم السري',
    password: 'كلمة المرور',
    kbi: 'البيانات الشخصية',
    biometric: 'القياسات الحيوية',
    wallet: 'المحفظة',
    vp: 'تسجيل الدخول بمحفظتك',
  },
  codeSentTo: 'أرسلنا رمزًا إلى {to}. الرمز صالح لبضع دقائق.',
  resendIn: 'يمكنك طلب رمز جديد بعد {s} ثانية.',
  consentTitle: 'مشاركة بياناتك',
  consentIntro: 'يطلب {rp} البيانات التالية.',
  verifiedUnder: 'تم التحقق منها وفق {framework}',
  verifiedBy: 'بواسطة {evidence}',
  notVerified: 'غير متحقق منها: لن تتم مشاركتها على أنها متحقق منها',
  evidence: {
    document: 'وثيقة هوية',
    electronic_record: 'سجل إلكتروني',
    vouch: 'تزكية',
    electronic_signature: 'توقيع إلكتروني',
  },
  essential: 'مطلوبة',
  voluntary: 'اختيارية (ألغِ التحديد للإبقاء عليها خاصة)',
  essentialNote: 'تتم مشاركة البيانات المطلوبة دائمًا عند السماح.',
  credentials: 'الشهادات المطلوب إصدارها',
  noClaims: 'يطلب {rp} فقط تأكيد تسجيل دخولك.',
  claim: {
    name: 'الاسم الكامل',
    given_name: 'الاسم الأول',
    family_name: 'اسم العائلة',
    middle_name: 'الاسم الأوسط',
    nickname: 'اللقب',
    preferred_username: 'اسم المستخدم',
    picture: 'الصورة',
    gender: 'الجنس',
    birthdate: 'تاريخ الميلاد',
    locale: 'اللغة',
    updated_at: 'آخر تحديث',
    email: 'البريد الإلكتروني',
    email_verified: 'تم التحقق من البريد الإلكتروني',
    phone_number: 'رقم الهاتف',
    phone_number_verified: 'تم التحقق من رقم الهاتف',
    address: 'العنوان',
  },
  kbiField: {
    name: 'الاسم الكامل',
    birthdate: 'تاريخ الميلاد',
    phone_number: 'رقم الهاتف',
    email: 'البريد الإلكتروني',
  },
  errors: {
    auth_failed: 'البيانات التي أدخلتها غير صحيحة. تحقق منها وحاول مرة أخرى.',
    wrong_code: 'الرمز غير صحيح أو منتهي الصلاحية. تحقق منه أو اطلب رمزًا جديدًا.',
    no_attempts_left: 'محاولات كثيرة جدًا. تم إيقاف تسجيل الدخول لهذا الرقم مؤقتًا: حاول لاحقًا.',
    too_many_requests: 'تم طلب رموز كثيرة. انتظر قليلًا ثم حاول مرة أخرى.',
    invalid_transaction: 'انتهت صلاحية تسجيل الدخول هذا. ارجع إلى التطبيق وابدأ من جديد.',
    invalid_request: 'بعض الحقول ناقصة. املأ جميع الحقول وحاول مرة أخرى.',
    forbidden: 'لم يتم إرسال هذا النموذج من هذه الصفحة. أعد تحميل الصفحة وحاول مرة أخرى.',
    unsupported_factor: 'طريقة تسجيل الدخول هذه غير متاحة هنا.',
    server_error: 'حدث خطأ من جهتنا. حاول مرة أخرى بعد قليل.',
    temporarily_unavailable: 'الخدمة مشغولة. حاول مرة أخرى بعد قليل.',
    invalid_captcha: 'لم يتم حل اختبار التحقق أو انتهت صلاحيته. حله مرة أخرى ثم اطلب رمزًا.',
    capture_rejected:
      'لم يُقبل الالتقاط لهذا الرقم. تحقق من الرقم والتقط مرة أخرى، أو اختر طريقة أخرى لتسجيل الدخول.',
  },
  errorTitle: 'مشكلة في تسجيل الدخول',
  startAgain: 'ارجع إلى التطبيق وابدأ تسجيل الدخول من جديد.',
  logoutTitle: 'تسجيل الخروج',
  logoutQuestion: 'هل تريد تسجيل الخروج؟',
  logoutYes: 'تسجيل الخروج',
  logoutNo: 'البقاء متصلًا',
  loggedOut: 'تم تسجيل خروجك.',
  wallet: {
    offer: 'تسجيل الدخول بمحفظتك',
    title: 'تسجيل الدخول بمحفظتك',
    scan: 'امسح هذا الرمز بتطبيق المحفظة على هاتفك. تعرض محفظتك ما ستشاركه: بطاقة هويتك فقط، دون أي بيانات شخصية.',
    sameDevice: 'افتح محفظتي على هذا الجهاز',
    expiresIn: 'تنتهي صلاحية هذا الرمز بعد {s} ثانية.',
    waiting: 'بانتظار محفظتك…',
    expired: 'انتهت صلاحية هذا الرمز. اطلب رمزًا جديدًا للمحاولة مرة أخرى.',
    newCode: 'رمز جديد',
    verified: 'تم التحقق من محفظتك. جارٍ المتابعة…',
    otherWays: 'طرق أخرى لتسجيل الدخول',
    needsScript: 'بعد أن تجيب محفظتك، اختر متابعة.',
    revoked: 'تم إلغاء بطاقة الهوية هذه. لا يمكن استخدامها لتسجيل الدخول.',
    suspended: 'بطاقة الهوية هذه موقوفة. لا يمكن استخدامها لتسجيل الدخول الآن.',
    not_holder: 'لم تتمكن المحفظة من إثبات أن بطاقة الهوية هذه تخصك.',
    not_ours: 'لم نصدر هذه البطاقة. قدّم بطاقة الهوية التي أصدرناها.',
    not_linked: 'هذه المحفظة غير مرتبطة بحساب لتسجيل الدخول. اربطها أولًا أو سجّل الدخول بطريقة أخرى.',
    other_request: 'أجابت المحفظة على عملية تسجيل دخول أخرى. اطلب رمزًا جديدًا وامسحه مرة أخرى.',
    replayed: 'تم استخدام هذا الرمز من قبل. اطلب رمزًا جديدًا.',
    invalid: 'أرسلت المحفظة بيانات لم نتمكن من قراءتها. اطلب رمزًا جديدًا وحاول مرة أخرى.',
    not_yours: 'لم تُصدر بطاقة الهوية هذه للشخص المرتبطة به هذه المحفظة. قدّم بطاقتك أنت.',
    offer_other_person: 'عملية تسجيل الدخول هذه تخص عرض اعتماد أُعدّ لشخص آخر.',
    linkedOffer: 'تسجيل الدخول بمحفظة مرتبطة',
    linkedTitle: 'تسجيل الدخول بمحفظة مرتبطة',
    linkedScan: 'امسح هذا الرمز بالمحفظة التي ربطتها بهويتك. تسجّل محفظتك دخولك بمفتاحها المرتبط.',
    linkedConnected: 'تم توصيل محفظتك. أكّد تسجيل الدخول في محفظتك…',
    linkedVerified: 'سجّلت محفظتك دخولك. جارٍ المتابعة…',
    not_linked_key:
      'لم تتمكن محفظتك من تسجيل دخولك: مفتاحها غير مرتبط بهذه الهوية. اربط المحفظة مرة أخرى أو سجّل الدخول بطريقة أخرى.',
  },
};

const TABLES: Record<string, Texts> = { en, ar };

/** The first language of `ui_locales` (space-separated, RFC 5646) that is configured and translated. */
export function pickLocale(uiLocales: unknown, configured: readonly string[]): string {
  const wanted = typeof uiLocales === 'string' ? uiLocales.split(' ').filter(Boolean) : [];
  for (const tag of wanted) {
    const base = tag.toLowerCase().split('-')[0]!;
    if (configured.includes(base) && TABLES[base]) return base;
  }
  return configured.find((l) => TABLES[l]) ?? 'en';
}

export function textsFor(locale: string): Texts {
  return TABLES[locale] ?? en;
}

export const format = (template: string, values: Record<string, string | number>): string =>
  template.replace(/\{(\w+)\}/g, (_, key: string) => String(values[key] ?? ''));

/** A claim's label, for `name` and language-tagged variants (`name#ar`). */
export function claimLabel(texts: Texts, claim: string): string {
  const [base, lang] = claim.split('#');
  const label = texts.claim[base!] ?? base!;
  return lang ? `${label} (${lang})` : label;
}
