import { Body, Controller, Module, Post } from '@nestjs/common'

/** A route of the app's own, with Nest's usual body parsing, which the receiver leaves alone. */
@Controller('notes')
class NotesController {
  @Post()
  create(@Body() body: unknown) {
    return { received: body }
  }
}

@Module({ controllers: [NotesController] })
export class AppModule {}
